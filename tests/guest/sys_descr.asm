; Descriptor-table and selector instructions checked by the guest:
; SGDT/SIDT (32- and 16-bit operand size), LIDT, SLDT/LLDT, STR/LTR (busy
; bit), LAR/LSL/VERR/VERW on valid and invalid selectors, ARPL, SMSW,
; LMSW (cannot clear PE) and CLTS.
; umbra-args: -bios {bin} -no-reboot
%include "sys_lib.inc"
[bits 16]
org 0
start:
    ENTER_PM32 pm
pm:
    ; ---- SGDT / SIDT / LIDT ----
    sgdt [0x500]
    movzx eax, word [0x500]
    CHK "sgdt.limit", eax, gdt_end - gdt - 1
    CHK "sgdt.base", [0x502], GDT_LIN
    mov word [0x510], 0x7ff
    mov dword [0x512], 0x12345678
    lidt [0x510]
    sidt [0x520]
    movzx eax, word [0x520]
    CHK "sidt.limit", eax, 0x7ff
    CHK "sidt.base", [0x522], 0x12345678
    o16 sidt [0x530]
    CHK "sidt16.base", [0x532], 0x00345678
    o16 lidt [0x510]
    sidt [0x540]
    CHK "lidt16.base", [0x542], 0x00345678
    ; ---- LDTR ----
    sldt eax
    CHK "sldt0", eax, 0
    mov ax, SEL_LDT
    lldt ax
    mov eax, 0xffffffff
    sldt eax
    CHK "sldt", eax, SEL_LDT
    sldt [0x550]
    movzx eax, word [0x550]
    CHK "sldt.mem", eax, SEL_LDT
    ; a data descriptor in the LDT becomes loadable
    mov dword [LDT_LIN + 8], 0x0000ffff
    mov dword [LDT_LIN + 12], 0x00cf9300
    mov ax, 0x0c                ; LDT entry 1, RPL 0
    mov fs, ax
    mov dword [fs:0x560], 0xfeedf00d
    CHK "ldt seg", [0x560], 0xfeedf00d
    ; ---- TR ----
    mov ax, SEL_TSS
    ltr ax
    str eax
    CHK "str", eax, SEL_TSS
    mov eax, [GDT_LIN + SEL_TSS + 4]
    shr eax, 8
    and eax, 0xf
    CHK "tss busy", eax, 0xb
    ; ---- LAR / LSL ----
    mov ecx, SEL_DATA3
    mov eax, 0
    lar eax, ecx
    setz bl
    movzx ebx, bl
    CHK "lar data3 zf", ebx, 1
    and eax, 0x00f0ff00
    CHK "lar data3", eax, 0x00c0f300
    lsl eax, ecx
    CHK "lsl data3", eax, 0xffffffff
    mov ecx, SEL_TSS
    lar eax, ecx
    CHK "lar tss", eax, 0x00008b00
    lsl eax, ecx
    CHK "lsl tss", eax, 0x2067
    mov ecx, SEL_CODE16
    o16 lsl ax, cx
    movzx eax, ax
    CHK "lsl code16", eax, 0xffff
    mov ecx, 0x1000             ; past the GDT limit
    mov eax, 0x1111
    lar eax, ecx
    setz bl
    movzx ebx, bl
    CHK "lar bad zf", ebx, 0
    CHK "lar bad keeps", eax, 0x1111
    mov ecx, 0                  ; null
    lsl eax, ecx
    setz bl
    movzx ebx, bl
    CHK "lsl null zf", ebx, 0
    ; ---- VERR / VERW ----
    mov cx, SEL_DATA32
    verw cx
    setz bl
    movzx ebx, bl
    CHK "verw data", ebx, 1
    mov cx, SEL_CODE32
    verr cx
    setz bl
    movzx ebx, bl
    CHK "verr code", ebx, 1
    verw cx
    setz bl
    movzx ebx, bl
    CHK "verw code", ebx, 0
    mov cx, SEL_TSS
    verr cx
    setz bl
    movzx ebx, bl
    CHK "verr tss", ebx, 0
    ; ---- ARPL ----
    mov ax, 0x0010
    mov cx, 0x0003
    arpl ax, cx
    setz bl
    movzx ebx, bl
    CHK "arpl zf", ebx, 1
    movzx eax, ax
    CHK "arpl", eax, 0x0013
    arpl ax, cx
    setz bl
    movzx ebx, bl
    CHK "arpl again zf", ebx, 0
    ; ---- SMSW / LMSW / CLTS ----
    smsw eax
    mov ebx, cr0
    CHK "smsw", eax, ebx
    mov ax, 0x000a              ; TS and MP; PE clear in the operand
    lmsw ax
    mov eax, cr0
    and eax, 0xf
    CHK "lmsw", eax, 0xb        ; PE stays set
    clts
    mov eax, cr0
    and eax, 0xf
    CHK "clts", eax, 0x3
    FINISH

    STD_GDT
    SYS_HELPERS
    ROM_END start
