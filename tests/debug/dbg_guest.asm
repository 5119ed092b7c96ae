; Guest for the debugger tests (tests/debug/gdb_test.sh), a Multiboot ELF
; with symbols: it sets up a flat GDT, an IDT whose #PF handler skips the
; faulting instruction, and 32-bit paging (SDM vol. 3A, 4.3) with
;   0x00000000-0x003fffff  identity (page table pt0)
;   0x40000000             -> the physical page `secret` (page table pt1)
;   0x40001000             -> the physical page `secret` + 0x1000, then
;                             rewritten by the guest at `pte_write`
; and then waits at `spin` until something (gdb) sets the byte `go`, and
; walks through the labelled points the tests stop at.  It leaves through
; the exit device with 0 (exit status 1) when done.

    bits 32

section .text
mb_header:
    dd 0x1BADB002, 0, -0x1BADB002      ; Multiboot v1, ELF layout

global _start, spin, go, read_done, cr3_loaded, bp_here, pte_write, after_pte, fault_insn, after_fault, pf_handler
global pd, pt0, pt1, secret, pf_count

_start:
    lgdt [gdt_desc]
    jmp 0x08:.flat
.flat:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov esp, stack_top
    ; IDT entry 14: 32-bit interrupt gate to pf_handler.
    mov eax, pf_handler
    mov [idt + 14 * 8], ax
    mov word [idt + 14 * 8 + 2], 0x08
    mov word [idt + 14 * 8 + 4], 0x8e00
    shr eax, 16
    mov [idt + 14 * 8 + 6], ax
    lidt [idt_desc]
    ; pt0: identity map of the first 4 MiB.
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
    mov dword [pd + 256 * 4], pt1 + 3   ; 0x40000000
    mov dword [pt1], secret + 3
    mov dword [pt1 + 4], secret + 0x1000 + 3
    mov eax, pd
    mov cr3, eax
cr3_loaded:
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    jmp .paged
.paged:
spin:
    cmp byte [go], 0
    je spin
bp_here:
    mov eax, [0x40000000]               ; 0x11223344, through pt1
    add eax, [0x40000004]
pte_write:
    mov dword [pt1 + 4], secret + 3     ; 0x40001000 now aliases 0x40000000
after_pte:
    invlpg [0x40001000]
    cmp dword [0x40001000], 0x11223344
read_done:
    jne fail
fault_insn:
    mov eax, [0x80000000]               ; not mapped: #PF, handler skips it
after_fault:
    cmp dword [pf_count], 1
    jne fail
    mov al, 0
    out 0xf4, al
fail:
    mov al, 1
    out 0xf4, al
    hlt

pf_handler:
    inc dword [pf_count]
    add dword [esp + 4], 5              ; skip the 5-byte MOV EAX, [moffs32]
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
go:
    db 0

align 4096
secret:
    dd 0x11223344, 0x55667788, 0x99aabbcc, 0xddeeff00
    times 1024 - 4 dd 0
    dd 0xa5a5a5a5, 0x5a5a5a5a, 0, 0     ; secret + 0x1000
    times 1024 - 4 dd 0

section .bss
alignb 4096
pd:     resb 4096
pt0:    resb 4096
pt1:    resb 4096
idt:    resb 256 * 8
        resb 4096
stack_top:
