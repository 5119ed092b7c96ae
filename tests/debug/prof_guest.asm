; Guest for the tracing and profiling tests (tests/debug/prof_test.sh), a
; Multiboot ELF with symbols linked at 1 MiB.  It
;   - turns on 32-bit paging with the first 4 MiB identity-mapped, then
;     writes to 0x00800000 (not mapped): one #PF with CR2 0x00800000 and
;     error code 2 (supervisor write, not present); the handler resumes
;     at `after_fault`;
;   - runs `hot_loop`, whose loop block `hot_body` runs HOT_N times (the
;     hottest block of the run);
;   - calls _start -> outer -> middle -> inner -> leaf with EBP frames,
;     `leaf` spinning LEAF_N times, so samples taken there walk the chain;
;   - patches the immediate of `smc_target` (MOV EAX, imm32) three times,
;     calling it after each patch and checking what it returns, so its
;     block is recorded again after each write to its bytes;
;   - loads CR3 twice more (two page directories), then leaves through
;     the exit device with 0 (exit status 1).

    bits 32

HOT_N  equ 200000
LEAF_N equ 50000

section .text
mb_header:
    dd 0x1BADB002, 0, -0x1BADB002      ; Multiboot v1, ELF layout

global _start, hot_loop, hot_body, outer, middle, inner, leaf, leaf_body
global pf_handler, fault_insn, after_fault, pd, pd2, pt0, smc_target

_start:
    lgdt [gdt_desc]
    jmp 0x08:.flat
.flat:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov esp, stack_top
    xor ebp, ebp
    mov eax, pf_handler                 ; IDT entry 14: interrupt gate
    mov [idt + 14 * 8], ax
    mov word [idt + 14 * 8 + 2], 0x08
    mov word [idt + 14 * 8 + 4], 0x8e00
    shr eax, 16
    mov [idt + 14 * 8 + 6], ax
    lidt [idt_desc]
    xor ecx, ecx
.id:
    mov eax, ecx
    shl eax, 12
    or eax, 3
    mov [pt0 + ecx * 4], eax
    inc ecx
    cmp ecx, 1024
    jne .id
    mov dword [pd], pt0 + 3
    mov dword [pd2], pt0 + 3
    mov eax, pd
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    jmp .paged
.paged:
fault_insn:
    mov dword [0x00800000], 1           ; not mapped: #PF
after_fault:
    cmp dword [pf_count], 1
    jne fail
    call hot_loop
    call outer
    mov ecx, 3
.patch:
    mov [smc_target + 1], ecx           ; the imm32 of MOV EAX, imm32
    call smc_target
    cmp eax, ecx
    jne fail
    dec ecx
    jnz .patch
    mov eax, pd2                        ; two address-space switches
    mov cr3, eax
    mov eax, pd
    mov cr3, eax
    mov al, 0
    out 0xf4, al
fail:
    mov al, 1
    out 0xf4, al
    hlt

align 16
smc_target:
    mov eax, 0x11111111
    ret

hot_loop:
    mov ecx, HOT_N
    xor eax, eax
hot_body:
    add eax, ecx
    xor ebx, eax
    rol ebx, 3
    dec ecx
    jnz hot_body
    ret

outer:
    push ebp
    mov ebp, esp
    call middle
    pop ebp
    ret
middle:
    push ebp
    mov ebp, esp
    call inner
    pop ebp
    ret
inner:
    push ebp
    mov ebp, esp
    call leaf
    pop ebp
    ret
leaf:
    push ebp
    mov ebp, esp
    mov ecx, LEAF_N
leaf_body:
    imul eax, ecx, 7
    sub edx, eax
    dec ecx
    jnz leaf_body
    pop ebp
    ret

pf_handler:
    inc dword [pf_count]
    mov eax, cr2
    cmp eax, 0x00800000
    jne fail
    mov dword [esp + 4], after_fault    ; resume past the faulting store
    add esp, 4                          ; the error code
    iret

section .data
align 8
gdt:
    dq 0
    dq 0x00cf9a000000ffff               ; 0x08: flat code
    dq 0x00cf92000000ffff               ; 0x10: flat data
gdt_desc:
    dw gdt_desc - gdt - 1
    dd gdt
idt_desc:
    dw 256 * 8 - 1
    dd idt
pf_count:
    dd 0

section .bss
alignb 4096
pd:     resb 4096
pd2:    resb 4096
pt0:    resb 4096
idt:    resb 256 * 8
        resb 4096
stack_top:
