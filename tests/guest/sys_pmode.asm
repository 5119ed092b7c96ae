; Real mode -> 32-bit protected mode (LGDT, MOV CR0, far JMP) -> back to
; real mode (16-bit segments, clear PE, far JMP), checking the mode and
; segment state the guest can observe at each step.
; umbra-args: -bios {bin} -no-reboot
%include "sys_lib.inc"
[bits 16]
org 0
start:
    ; real mode: SMSW shows PE clear
    smsw ax
    test al, 1
    jnz fail16
    ENTER_PM32 pm
pm:
    smsw eax
    and eax, 0x11               ; PE and ET
    CHK "cr0.pe+et", eax, 0x11
    mov eax, cs
    CHK "cs", eax, SEL_CODE32
    mov eax, ss
    CHK "ss", eax, SEL_DATA32
    sgdt [0x500]
    movzx eax, word [0x500]
    CHK "gdt.limit", eax, gdt_end - gdt - 1
    CHK "gdt.base", [0x502], GDT_LIN
    ; 32-bit addressing reaches beyond 1 MiB
    mov dword [0x200000], 0x5a5aa5a5
    CHK "high mem", [0x200000], 0x5a5aa5a5
    ; CR0 reads back what was written
    mov eax, cr0
    mov cr0, eax
    mov eax, cr0
    and eax, 1
    CHK "cr0 rewrite", eax, 1
    ; back to real mode through a 16-bit code segment
    mov ax, SEL_DATA16
    mov ds, ax
    mov es, ax
    mov ss, ax
    jmp SEL_CODE16:pm16
[bits 16]
pm16:
    mov eax, cr0
    and al, 0xFE
    mov cr0, eax
    jmp 0xF000:real
real:
    xor ax, ax
    mov ds, ax
    mov ss, ax
    mov sp, 0x7000
    smsw ax
    test al, 1
    jnz fail16
    ; real-mode segment arithmetic again: F000:xxxx is the ROM
    mov ax, 0xF000
    mov es, ax
    mov ax, [es:sig]
    cmp ax, 0x1234
    jne fail16
    mov si, realmsg
    mov ax, cs
    mov ds, ax
.l: lodsb
    test al, al
    jz .d
    out 0xE9, al
    jmp .l
.d: xor ax, ax
    mov ds, ax
    cmp word [NFAIL], 0
    jne fail16
    EXIT 0
fail16:
    PUTC 'F'
    PUTC 10
    EXIT 1
sig: dw 0x1234
realmsg: db "back in real mode", 10, 0

    STD_GDT
    SYS_HELPERS
    ROM_END start
